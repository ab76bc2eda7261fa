// NOT BUILT HERE: UserNotifications and UIKit. The decisions are LichenLogic's
// NotificationPolicy and NotificationActions (tested).
import Foundation
import Lichen
import LichenLogic
import UIKit
import UserNotifications

/// Posts what NotificationPolicy decides; handles Reply and Mark read.
final class Notifier: NSObject, UNUserNotificationCenterDelegate {
    private let center = UNUserNotificationCenter.current()
    var lichen: Lichen?

    override init() {
        super.init()
        center.delegate = self
        let reply = UNTextInputNotificationAction(
            identifier: LocalNotice.replyAction, title: "Reply", options: [],
            textInputButtonTitle: "Send", textInputPlaceholder: "Message")
        let read = UNNotificationAction(identifier: LocalNotice.markReadAction, title: "Mark read")
        center.setNotificationCategories([
            UNNotificationCategory(
                identifier: LocalNotice.category, actions: [reply, read], intentIdentifiers: [],
                options: [.hiddenPreviewsShowTitle])
        ])
    }

    func apply(_ d: NotificationDecision) {
        for n in d.post {
            let c = UNMutableNotificationContent()
            c.title = n.title
            c.body = n.body
            c.threadIdentifier = n.chatId
            c.categoryIdentifier = LocalNotice.category
            c.userInfo = ["chat": n.chatId]
            c.sound = .default
            center.add(UNNotificationRequest(identifier: n.chatId, content: c, trigger: nil))
        }
        center.removeDeliveredNotifications(withIdentifiers: d.withdraw)
        if #available(iOS 17, *) {
            center.setBadgeCount(d.badge)
        } else {
            DispatchQueue.main.async { UIApplication.shared.applicationIconBadgeNumber = d.badge }
        }
    }

    func userNotificationCenter(
        _ center: UNUserNotificationCenter, didReceive response: UNNotificationResponse
    ) async {
        guard let lichen, let chat = response.notification.request.content.userInfo["chat"] as? String
        else { return }
        let text = (response as? UNTextInputNotificationResponse)?.userText
        try? await NotificationActions.handle(
            action: response.actionIdentifier, chatId: chat, text: text, lichen: lichen)
    }

    func userNotificationCenter(
        _ center: UNUserNotificationCenter, willPresent notification: UNNotification
    ) async -> UNNotificationPresentationOptions {
        [.banner, .list, .badge]
    }
}
